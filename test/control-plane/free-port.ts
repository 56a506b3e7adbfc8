// The one free-port helper lives in test/support; re-exported for the control plane's modules.
export { freePort } from '../support/free-port.ts';
