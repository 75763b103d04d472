/** The usage text of every command (printed by --help and after a usage mistake). */

/** Usage of the whole command. */
export const USAGE = `usage: buddy-alloc <command> [options]

commands:
  simulate   replay built-in workloads or a trace on the allocators; print a table, write an HTML report
  inspect    open a saved heap or concurrent allocator and print its figures and map
  serve      serve the playground (web/ and the dist/ build) on localhost

Run "buddy-alloc <command> --help" for the options of one command.`;

/** Usage of \`simulate\`. */
export const SIMULATE_USAGE = `usage: buddy-alloc simulate [options]

Replays workloads on the allocators, prints operations, ns/op, peak use, failures,
fragmentation and rounding waste for each run, and writes an HTML report with memory maps and
plots over time. With no --workload, --trace or --allocator it runs the default suite: steady
on page and concurrent, fill-drain and kernel on page, small on heap, buffers on page and
page-exact.

ns/op is the allocator alone: after the measured run, the operations are replayed twice more on
fresh allocators with nothing else inside the clock, and the faster pass counts ("npm run bench"
measures more carefully). Every output file is checked before anything runs and all are
written at the end, or none.

options:
  -w, --workload NAMES   steady, fill-drain, kernel, small, buffers, or all (comma-separated)
  -t, --trace FILE       replay a trace file instead (format: docs/trace-format.md in the package)
  -a, --allocator KINDS  page, page-exact (the page allocator with exact runs of pages),
                         concurrent, heap (comma-separated; default: each workload's own,
                         page for a trace)
  -m, --memory BYTES     memory per allocator (default 64MiB; units K, M, G are binary)
      --page-size BYTES  page size, a power of two (default 4096)
      --guard            run the heap in guard mode: red zones after every block and
                         poisoned free memory, checked on free (finds overflows)
  -n, --ops N            operations per workload (default 200000; 200k and 2m are accepted)
      --seed N           seed of the workloads' random numbers (default 1)
  -o, --out FILE         the HTML report (default reports/simulate.html)
      --save-trace FILE  also write the workload's operations as a trace (one workload only)
      --save FILE        also write the final allocator's bytes, for inspect (one heap or
                         concurrent run only)
      --progress, --no-progress   draw the progress bar (default: when stderr is a terminal)`;

/** Usage of \`inspect\`. */
export const INSPECT_USAGE = `usage: buddy-alloc inspect FILE [--start BYTES] [--html OUT]

Opens FILE, the bytes of a Heap's buffer or a ConcurrentBuddy's SharedArrayBuffer (as
"simulate --save" writes them, or a program that saved its heap), checks every invariant,
and prints its figures and a text map of its pages.

options:
      --start BYTES  offset of the heap's header in FILE (default 0; a heap created with a start)
      --html OUT     also write the memory map as SVG in an HTML page`;

/** Usage of \`serve\`. */
export const SERVE_USAGE = `usage: buddy-alloc serve [--port N] [--host HOST] [--for SECONDS]

Serves the playground at http://127.0.0.1:8080/ (web/, using the library's own build in dist/:
run "npm run build" first). Loopback only. Stops on Ctrl-C, or after --for SECONDS.

options:
      --port N        TCP port (default 8080; 0 picks a free one)
      --host HOST     127.0.0.1 (default), ::1 or localhost
      --for SECONDS   stop by itself after this many seconds`;
