'use strict';
// Preloaded into the service (`node --require bench/cpu-profiler.js dist/main.js`) when the benchmark
// runs with BENCH_CPU_PROFILE=true. The harness sends `{ cpuProfile: 'start' }` and `{ cpuProfile: 'stop' }`
// over the IPC channel (signals are taken: Nest's shutdown hooks listen to SIGUSR2 too), so only the
// sell-out is profiled, not the boot or the import; on stop V8's profile is written to
// BENCH_CPU_PROFILE_FILE (a .cpuprofile for Chrome DevTools or speedscope). Plain JavaScript: it is
// loaded into the built service, where there is no TypeScript.
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');

const session = new inspector.Session();
session.connect();

process.on('message', (message) => {
  if (!message || typeof message !== 'object') return;
  if (message.cpuProfile === 'start') {
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 250 }, () => session.post('Profiler.start')));
  } else if (message.collectGarbage) {
    // bench:sse reads the service's memory after a full collection, so garbage is not counted as streams.
    session.post('HeapProfiler.collectGarbage');
  } else if (message.cpuProfile === 'stop') {
    session.post('Profiler.stop', (error, result) => {
      if (error) {
        process.stderr.write(`cpu profile failed: ${error.message}\n`);
        return;
      }
      writeFileSync(process.env.BENCH_CPU_PROFILE_FILE || 'service.cpuprofile', JSON.stringify(result.profile));
    });
  }
});
// The channel must not keep the service alive on its own.
if (process.channel) process.channel.unref();
