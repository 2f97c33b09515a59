// The npm module through require().
"use strict";
const { runSuite } = require("./suite.cjs");
runSuite("require", require("../../pkg/index.cjs"));
