import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { ensureGo } from "../../../tools/pulumi/index.cjs";

/**
 * ensureGo on a machine without a recent Go: it fetches the pinned toolchain from GOPROXY and runs nothing from a zip
 * whose h1 hash is not the pinned one. The proxy is a loopback server handing out a forged toolchain.
 */
let dir: string;
let proxy: http.Server;
let requests: string[];
const savedCache = process.env.PULUMI_OFFLOAD_CACHE_DIR;

function forgedToolchainZip(file: string): void {
  const script = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    info = zipfile.ZipInfo("golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64/bin/go")
    info.external_attr = 0o755 << 16
    z.writestr(info, "#!/bin/sh\\necho forged\\n")
`;
  execFileSync("python3", ["-c", script, file]);
}

function fakeGo(version: string): string {
  const bin = fs.mkdtempSync(path.join(dir, "path-"));
  fs.writeFileSync(path.join(bin, "go"), `#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && echo ${version}\n`, { mode: 0o755 });
  return bin;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "go-toolchain-"));
  const zip = path.join(dir, "forged.zip");
  forgedToolchainZip(zip);
  proxy = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    res.end(fs.readFileSync(zip));
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
});

beforeEach(() => {
  requests = [];
  process.env.PULUMI_OFFLOAD_CACHE_DIR = fs.mkdtempSync(path.join(dir, "cache-"));
});

afterAll(async () => {
  if (savedCache === undefined) delete process.env.PULUMI_OFFLOAD_CACHE_DIR;
  else process.env.PULUMI_OFFLOAD_CACHE_DIR = savedCache;
  await new Promise((resolve) => proxy.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

const gomodGo = () => /^go (\S+)$/m.exec(fs.readFileSync(path.join(__dirname, "../../../tools/pulumi/go.mod"), "utf8"))![1];
const goproxy = () => `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

test("a go on PATH as new as go.mod asks for is used as it is: nothing is fetched", async () => {
  const bin = fakeGo(`go${gomodGo()}`);
  await expect(ensureGo({ env: { PATH: bin, GOPROXY: goproxy() } })).resolves.toBe(bin);
  expect(requests).toEqual([]);
});

const describeOnAmd64 = process.platform === "linux" && process.arch === "x64" ? describe : describe.skip;
describeOnAmd64("without a recent go, the pinned toolchain comes from GOPROXY", () => {
  test("an older go on PATH is not used; a zip that is not the pinned toolchain is refused and nothing is unpacked", async () => {
    const lines: string[] = [];
    const bin = fakeGo("go1.25.0");
    await expect(ensureGo({ log: (l) => lines.push(l), env: { PATH: bin, GOPROXY: `off,${goproxy()},direct` } })).rejects.toThrow(
      /the Go toolchain zip's hash is h1:\S+, not the pinned h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM=/,
    );
    expect(requests).toEqual(["/golang.org/toolchain/@v/v0.0.1-go1.26.8.linux-amd64.zip"]);
    expect(lines).toEqual([expect.stringMatching(/^No Go >= \S+ on PATH: fetching go1\.26\.8 \(about 70 MB\) from http:\/\/127\.0\.0\.1:\d+\/golang\.org/)]);
    expect(fs.readdirSync(path.join(process.env.PULUMI_OFFLOAD_CACHE_DIR!, "go"))).toEqual([]);
  });

  test("a proxy that answers with an error is named in the message", async () => {
    const broken = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => broken.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
      await expect(ensureGo({ env: { PATH: "", GOPROXY: url } })).rejects.toThrow(`fetching ${url}/golang.org/toolchain/@v/v0.0.1-go1.26.8.linux-amd64.zip: HTTP 404`);
    } finally {
      await new Promise((resolve) => broken.close(resolve));
    }
  });
});
