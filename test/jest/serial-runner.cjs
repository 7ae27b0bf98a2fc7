// jest's own runner, told to run its files one at a time. jest runs each runner's files as one group, the
// default runner's (unit, integration) in parallel workers first, then this one's (e2e) in band, so two
// five-service platforms never compete for the machine's two cores.
const { default: TestRunner } = require('jest-runner');

module.exports = class SerialRunner extends TestRunner {
  isSerial = true;
};
