// Writes every ```graphql block of the README to generated/readme.graphql, for the code generator:
// the operations users copy from the README are the ones whose generated types must compile.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const blocks = [...readme.matchAll(/^```graphql\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
if (blocks.length === 0) {
  throw new Error("README.md has no ```graphql block");
}
mkdirSync(new URL("generated/", import.meta.url), { recursive: true });
writeFileSync(new URL("generated/readme.graphql", import.meta.url), blocks.join("\n"));
