/**
 * Prints how long `npm run test:unit` took against its budget: the fast tier is only useful while
 * it stays well under a minute, so crossing the budget is said plainly (without failing the run:
 * a busy machine is not a broken test).
 */
class UnitTierReporter {
  constructor(globalConfig, options) {
    this.budgetSeconds = (options && options.budgetSeconds) || 60;
  }

  onRunComplete(contexts, results) {
    const seconds = (Date.now() - results.startTime) / 1000;
    const slowest = results.testResults
      .map((r) => ({ file: r.testFilePath.slice(process.cwd().length + 1), seconds: (r.perfStats.end - r.perfStats.start) / 1000 }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, 3)
      .map((r) => `${r.file} ${r.seconds.toFixed(1)} s`)
      .join(', ');
    const verdict = seconds <= this.budgetSeconds ? 'within' : 'OVER';
    process.stderr.write(
      `\nunit tier: ${results.numTotalTestSuites} files, ${results.numTotalTests} tests in ${seconds.toFixed(1)} s ` +
        `(${verdict} the ${this.budgetSeconds} s budget; slowest: ${slowest})\n`,
    );
  }
}

module.exports = UnitTierReporter;
