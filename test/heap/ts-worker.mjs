// Worker bootstrap, plain JavaScript so Node can start it from a clean clone without a build:
// registers tsx's loader in this worker, then imports the TypeScript module workerData.entry.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
