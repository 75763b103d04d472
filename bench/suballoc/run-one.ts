/**
 * Child-process entry of the suballocation workload: runs it once on ONE peer (after untimed
 * warm-up runs on throwaway instances, as bench/run-one.ts does) and prints a JSON line.
 * `check()` runs after the timed part, then everything is freed and the allocator must be whole.
 * Usage: node --import tsx bench/suballoc/run-one.ts <exact|pow2|first-fit> <speed ops>
 */
import { createPeer, SUBALLOC_PEERS, type SubPeerName } from "./peers.js";
import { runSuballoc } from "./workload.js";

const WARMUP_RUNS = 2;

const [peer, opsArg] = process.argv.slice(2);
const ops = Number(opsArg);
if (!SUBALLOC_PEERS.includes(peer as SubPeerName) || !Number.isSafeInteger(ops) || ops < 1) {
  throw new Error(`usage: suballoc/run-one.ts <${SUBALLOC_PEERS.join("|")}> <speed ops>`);
}
for (let w = 0; w < WARMUP_RUNS; w++) runSuballoc(createPeer(peer as SubPeerName), ops);
const subject = createPeer(peer as SubPeerName);
(globalThis as { gc?: () => void }).gc?.();
const { result, drain } = runSuballoc(subject, ops);

let checkError: string | null = null;
try {
  subject.check();
  drain();
  checkError = subject.verifyDrained();
} catch (e) {
  checkError = String(e);
}
process.stdout.write(`${JSON.stringify({ ...result, checkError })}\n`);
