// A closing line in the plain form any CI log reader understands: "tests: N passed, N failed".
// Jest's own summary says the same across several lines and words, and prints after every
// reporter's onRunComplete, so this line waits for the process to exit to come last.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    // Suites that failed to load count no tests but are failures all the same.
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    process.once("exit", () => process.stderr.write(line));
  }
}
module.exports = SummaryReporter;
