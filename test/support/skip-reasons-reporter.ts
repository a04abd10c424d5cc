/**
 * A vitest reporter that ends the run with every skipped test and why: the
 * default reporter shows only a count ("5 skipped"), which hides that, say,
 * the browser check or Xen's own verifier never ran on this machine. The
 * reason is the note given to `ctx.skip(note)` or a test name that carries
 * it; tests skipped without one are listed by name.
 */
import type { Reporter, TestModule, Vitest } from 'vitest/node';

export default class SkipReasonsReporter implements Reporter {
  /** With `-t PATTERN` most tests are skipped by the filter: list only those skipped for a stated reason. */
  private nameFilter = false;

  onInit(vitest: Vitest): void {
    this.nameFilter = vitest.config.testNamePattern !== undefined;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const module of testModules) {
      const notes = new Set<string>();
      const unexplained: string[] = [];
      let skipped = 0;
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state !== 'skipped') continue;
        skipped++;
        if (result.note) notes.add(result.note);
        else if (/^skipped:/i.test(test.name)) notes.add(test.name.replace(/^skipped:\s*/i, ''));
        else unexplained.push(test.fullName);
      }
      if (skipped === 0 || (this.nameFilter && notes.size === 0)) continue;
      // A suite skipped as a whole often explains itself in one test's note: then that note covers the rest.
      const why = notes.size > 0 ? [...notes].join('; ') : `no reason given (${unexplained.join('; ')})`;
      lines.push(`  ${module.relativeModuleId}: ${skipped} skipped: ${why}`);
    }
    if (lines.length > 0) process.stdout.write(`\nSkipped tests:\n${lines.join('\n')}\n`);
  }
}
