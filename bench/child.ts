/** Running one benchmark measurement in a fresh Node process (with tsx and --expose-gc). */
import { spawn } from "node:child_process";

/**
 * Runs `script` (relative to `root`) with `args` in a fresh Node process and parses the JSON line
 * it prints. Rejects, naming `what`, when the process fails.
 */
export function runJsonChild<T>(root: string, script: string, args: string[], what: string): Promise<T> {
  const argv = ["--expose-gc", "--import", "tsx", script, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim()) as T) : reject(new Error(`${what}: exit ${code}`)),
    );
  });
}
