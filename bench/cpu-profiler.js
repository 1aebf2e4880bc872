'use strict';
// Preloaded into the service (`node --require bench/cpu-profiler.js dist/main.js`) when the benchmark
// runs with BENCH_CPU_PROFILE=true. SIGUSR2 toggles V8's sampling profiler: the first starts it, the
// second stops it and writes BENCH_CPU_PROFILE_FILE (a .cpuprofile for Chrome DevTools or speedscope),
// so that only the sell-out is profiled, not the boot or the import. Plain JavaScript: it is loaded
// into the built service, where there is no TypeScript.
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');

const session = new inspector.Session();
session.connect();
let profiling = false;

process.on('SIGUSR2', () => {
  if (!profiling) {
    profiling = true;
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 250 }, () => session.post('Profiler.start')));
    return;
  }
  profiling = false;
  session.post('Profiler.stop', (error, result) => {
    if (error) {
      process.stderr.write(`cpu profile failed: ${error.message}\n`);
      return;
    }
    writeFileSync(process.env.BENCH_CPU_PROFILE_FILE || 'service.cpuprofile', JSON.stringify(result.profile));
  });
});
