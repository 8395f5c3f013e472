// A loopback proxy in front of the registry that cuts the first download of each blob
// halfway (headers and half the body, then the socket is destroyed), and records the
// Range headers of later requests, so tests can watch a download resume.
import http from 'node:http';

export interface CuttingProxy {
  host: string;
  /** blob paths whose first download was cut */
  cut: string[];
  /** Range headers seen on blob GETs */
  ranges: string[];
  /** after a cut, answer every blob GET with 503 until heal() (a registry that went away) */
  failAfterCut: boolean;
  heal(): void;
  /** bytes per second for blob bodies; 0 = unlimited */
  setRate(bytesPerSecond: number): void;
  stop(): Promise<void>;
}

export async function startCuttingProxy(upstreamPort: number,
  options: { minSize?: number; failAfterCut?: boolean; noCut?: boolean; bytesPerSecond?: number } = {}): Promise<CuttingProxy> {
  const cut: string[] = [];
  const ranges: string[] = [];
  const minSize = options.minSize ?? 1024;
  const state = { failAfterCut: options.failAfterCut ?? false, rate: options.bytesPerSecond ?? 0 };
  const server = http.createServer((req, res) => {
    const isBlobGet = req.method === 'GET' && /\/blobs\/sha256:[a-f0-9]{64}$/.test(req.url ?? '');
    if (isBlobGet && typeof req.headers.range === 'string') ranges.push(req.headers.range);
    if (isBlobGet && state.failAfterCut && cut.length > 0) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"down"}]}');
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const length = Number(up.headers['content-length'] ?? 0);
      const shouldCut = !options.noCut && isBlobGet && up.statusCode === 200 && length >= minSize && !cut.includes(req.url ?? '');
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (isBlobGet && !shouldCut && state.rate > 0) {
        up.on('data', (chunk: Buffer) => {
          res.write(chunk);
          if (state.rate === 0) return;
          up.pause();
          setTimeout(() => up.resume(), (chunk.byteLength / state.rate) * 1000);
        });
        up.on('end', () => res.end());
        return;
      }
      if (!shouldCut) {
        up.pipe(res);
        return;
      }
      cut.push(req.url ?? '');
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (sent >= length / 2) return;
        const part = chunk.subarray(0, Math.max(0, Math.ceil(length / 2) - sent));
        sent += part.byteLength;
        res.write(part);
        if (sent >= length / 2) {
          up.destroy();
          res.socket?.destroy();
        }
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`, cut, ranges,
    get failAfterCut() { return state.failAfterCut; },
    heal() { state.failAfterCut = false; },
    setRate(bytesPerSecond: number) { state.rate = bytesPerSecond; },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
