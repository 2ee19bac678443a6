// Jest's own runner, marked serial: the engine project's suites run one at a time, after the unit
// project's parallel ones, inside the same jest run (so one summary line covers both). They share one
// Docker engine and build the same image; side by side they only slow each other down.
const TestRunner = require("jest-runner").default;

class SerialRunner extends TestRunner {
  constructor(...args) {
    super(...args);
    this.isSerial = true;
  }
}
module.exports = SerialRunner;
