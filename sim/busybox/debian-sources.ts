import * as fs from "fs";
import * as path from "path";

interface Source {
  uri: string;
  suite: string;
  components: string[];
  /** A keyring path, or an inline key as deb822 writes it (continuation lines kept). */
  signedBy?: string;
}

/**
 * deb822 sources for fetching Debian packages and their source: the Debian archives (URI, suite,
 * keyring) that this system's apt already uses for its own release, each with `deb` and `deb-src`
 * and only `main`. Third-party repositories (a suite not of this release) are left out.
 */
export function debianSources(etcApt = "/etc/apt", osRelease = "/etc/os-release"): string {
  const codename = releaseCodename(osRelease);
  const ofRelease = (s: Source) => (s.suite === codename || s.suite.startsWith(`${codename}-`)) && s.components.includes("main");
  const sources = systemSources(etcApt).filter(ofRelease);
  if (sources.length === 0) {
    throw new Error(`no Debian archive for "${codename}" with component main in ${etcApt}/sources.list or ${etcApt}/sources.list.d/`);
  }
  const stanzas = new Map<string, { uri: string; signedBy?: string; suites: Set<string> }>();
  for (const s of sources) {
    const key = `${s.uri}\n${s.signedBy ?? ""}`;
    const stanza = stanzas.get(key) ?? { uri: s.uri, signedBy: s.signedBy, suites: new Set<string>() };
    stanza.suites.add(s.suite);
    stanzas.set(key, stanza);
  }
  return [...stanzas.values()]
    .map((s) =>
      [
        "Types: deb deb-src",
        `URIs: ${s.uri}`,
        `Suites: ${[...s.suites].join(" ")}`,
        "Components: main",
        ...(s.signedBy ? [`Signed-By: ${s.signedBy}`] : []),
      ].join("\n"),
    )
    .join("\n\n")
    .concat("\n");
}

function releaseCodename(osRelease: string): string {
  const text = fs.readFileSync(osRelease, "utf8");
  const codename = /^VERSION_CODENAME="?([^"\n]+)"?$/m.exec(text)?.[1];
  if (!codename) throw new Error(`${osRelease} names no VERSION_CODENAME: is this a Debian system?`);
  return codename;
}

function systemSources(etcApt: string): Source[] {
  const sources: Source[] = [];
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
  };
  const list = read(path.join(etcApt, "sources.list"));
  if (list !== undefined) sources.push(...oneLineSources(list));
  const partsDir = path.join(etcApt, "sources.list.d");
  const parts = fs.existsSync(partsDir) ? fs.readdirSync(partsDir).sort() : [];
  for (const name of parts) {
    const text = read(path.join(partsDir, name));
    if (text === undefined) continue;
    if (name.endsWith(".list")) sources.push(...oneLineSources(text));
    else if (name.endsWith(".sources")) sources.push(...deb822Sources(text));
  }
  return sources;
}

/** `deb [signed-by=/k.gpg arch=amd64] http://deb.debian.org/debian bookworm main contrib` */
function oneLineSources(text: string): Source[] {
  const sources: Source[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const m = /^deb(?:-src)?\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const signedBy = /(?:^|\s)signed-by=(\S+)/.exec(m[1] ?? "")?.[1];
    sources.push({ uri: m[2], suite: m[3], components: m[4].split(/\s+/).filter(Boolean), signedBy });
  }
  return sources;
}

function deb822Sources(text: string): Source[] {
  const sources: Source[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = deb822Fields(block);
    if ((fields.get("enabled") ?? "yes").toLowerCase() === "no") continue;
    const types = (fields.get("types") ?? "").split(/\s+/);
    if (!types.includes("deb") && !types.includes("deb-src")) continue;
    const components = (fields.get("components") ?? "").split(/\s+/).filter(Boolean);
    for (const uri of (fields.get("uris") ?? "").split(/\s+/).filter(Boolean)) {
      for (const suite of (fields.get("suites") ?? "").split(/\s+/).filter(Boolean)) {
        sources.push({ uri, suite, components, signedBy: fields.get("signed-by") });
      }
    }
  }
  return sources;
}

/** Field names lower-cased; a continuation line (leading space) stays part of its field's value. */
function deb822Fields(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  let current: string | undefined;
  for (const line of block.split("\n")) {
    if (line.startsWith("#")) continue;
    if (/^\s/.test(line) && current) {
      fields.set(current, `${fields.get(current)}\n${line}`);
      continue;
    }
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    current = m[1].toLowerCase();
    fields.set(current, m[2].trim());
  }
  return fields;
}
