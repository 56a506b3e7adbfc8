// CoreDNS for the cluster tier, with only the plugins a cluster's DNS needs.
//
// CoreDNS's own main links every plugin it ships (cloud DNS providers among them);
// building from coremain with a short list is the way CoreDNS documents for custom
// builds, and keeps the cold build to a few minutes on 2 cores. Maintained by hand:
// build.sh only builds it.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
)

// The order plugins run in, as CoreDNS's own plugin.cfg orders these ones.
var directives = []string{
	"reload", "ready", "health", "errors", "log", "loadbalance", "cache",
	"template", "kubernetes", "loop",
}

func main() {
	dnsserver.Directives = directives
	coremain.Run()
}
