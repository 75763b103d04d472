/**
 * `buddy-alloc serve`: a small static file server for the playground, on the loopback interface
 * only. It serves `web/` at `/` and the library's ESM build `dist/` at `/dist/`, answers GET and
 * HEAD only, refuses paths that leave those folders and Host headers that are not loopback names
 * (so another web page cannot reach it through DNS rebinding), caps connections and request time.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** TCP port, 0 for any free one (default 8080). */
  port?: number;
  /** A loopback address or name: 127.0.0.1 (default), ::1 or localhost. */
  host?: string;
  /** The playground folder (default: `web/` of this package). */
  webRoot?: string;
  /** The ESM build folder (default: `dist/` of this package). */
  distRoot?: string;
}

/** A running server. */
export interface RunningServer {
  /** Its address, e.g. http://127.0.0.1:8080/ */
  url: string;
  /** Stops accepting connections, closes the open ones and resolves when done. */
  close(): Promise<void>;
}

/** Hosts the server may listen on. */
export const LOOPBACK_HOSTS = ["127.0.0.1", "::1", "localhost"];

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".ts": "text/plain; charset=utf-8",
};

/** The package's root folder (two levels above this file, in src/cli/ or dist/cli/). */
export function packageRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url));
}

/**
 * Starts serving the playground.
 * @throws Error when `host` is not a loopback host, when web/ or dist/index.js is missing (run
 *   `npm run build` first), or when the port cannot be bound.
 */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK_HOSTS.includes(host)) {
    throw new Error(
      `serve listens on the loopback interface only (${LOOPBACK_HOSTS.join(", ")}), got ${host}`,
    );
  }
  const webRoot = resolve(options.webRoot ?? join(packageRoot(), "web"));
  const distRoot = resolve(options.distRoot ?? join(packageRoot(), "dist"));
  if (!existsSync(join(webRoot, "index.html"))) throw new Error(`no playground at ${webRoot}/index.html`);
  if (!existsSync(join(distRoot, "index.js"))) {
    throw new Error(`no ESM build at ${distRoot}/index.js: run "npm run build" first`);
  }
  const server = createServer((req, res) => answer(req, res, webRoot, distRoot));
  server.maxConnections = 64;
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 8080, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(":") ? `[${host}]` : host;
  return { url: `http://${shown}:${port}/`, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  });
}

/** A file to send, or the status and message of a refusal. */
type Answer = { file: string } | { status: number; message: string };

function answer(req: IncomingMessage, res: ServerResponse, webRoot: string, distRoot: string): void {
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Cache-Control", "no-store");
  const a = route(req, webRoot, distRoot);
  if ("status" in a) {
    if (a.status === 405) res.setHeader("Allow", "GET, HEAD");
    fail(res, a.status, a.message);
    return;
  }
  let body: Buffer;
  try {
    if (!statSync(a.file).isFile()) throw new Error("not a file");
    body = readFileSync(a.file);
  } catch {
    fail(res, 404, "not found");
    return;
  }
  res.writeHead(200, {
    "Content-Type": TYPES[extname(a.file)] ?? "application/octet-stream",
    "Content-Length": body.length,
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Decides what a request gets, without touching the file system. */
function route(req: IncomingMessage, webRoot: string, distRoot: string): Answer {
  const hostHeader = (req.headers.host ?? "").replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  if (!LOOPBACK_HOSTS.includes(hostHeader)) return { status: 403, message: "forbidden host" };
  if (req.method !== "GET" && req.method !== "HEAD") return { status: 405, message: "method not allowed" };
  const url = req.url ?? "/";
  if (url.length > 1024) return { status: 414, message: "URI too long" };
  let path: string;
  try {
    path = decodeURIComponent(url.split(/[?#]/)[0]);
  } catch {
    return { status: 400, message: "bad path" };
  }
  if (path.includes("\0") || path.split("/").includes("..")) return { status: 400, message: "bad path" };
  const inDist = path.startsWith("/dist/");
  const root = inDist ? distRoot : webRoot;
  const relative = inDist ? path.slice("/dist/".length) : path === "/" ? "index.html" : path.slice(1);
  const file = resolve(root, relative);
  if (file !== root && !file.startsWith(root + sep)) return { status: 400, message: "bad path" };
  return { file };
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(`${message}\n`);
}
