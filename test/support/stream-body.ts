import type { ServerResponse } from 'node:http';

/** Bytes a streamRepeated call has written so far. */
export interface Written {
  bytes: number;
}

/**
 * Writes `chunk` again and again until `total` bytes went out or the client went away,
 * waiting for 'drain' so a client that stops reading stops the server too.
 */
export function streamRepeated(
  res: ServerResponse,
  chunk: Buffer,
  total: number,
  written: Written = { bytes: 0 },
): Written {
  const pump = (): void => {
    while (written.bytes < total && !res.destroyed) {
      written.bytes += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
  return written;
}
