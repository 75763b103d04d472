// Worker bootstrap (plain JS, so Node can start it): registers tsx's loader in this thread, then
// loads the TypeScript module named by workerData.entry (a file URL). `execArgv: ["--import",
// "tsx"]` does not reach a worker's entry module on Node 20, hence this file.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
