import { PassThrough } from "stream";
import { Progress } from "../../cli/progress";

/** What a terminal was sent, and a stream that says it is one (cli-progress draws only on a TTY). */
function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100 }) as unknown as NodeJS.WriteStream;
  let text = "";
  (stream as unknown as PassThrough).on("data", (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "");

test("a line logged while the bar is drawn gets a line of its own, above the bar", () => {
  const { stream, text } = terminal();
  const bar = new Progress(stream, { format: "[{bar}] {value}/{total} resources {last}", enabled: true });
  bar.start(3, { last: "" });
  bar.increment({ last: "edge-1" });
  bar.log("warning: SQM instance wan is bypassed");
  bar.increment({ last: "edge-2" });
  bar.stop();
  const segments = plain(text()).split(/[\r\n]/);
  expect(segments).toContain("warning: SQM instance wan is bypassed");
  expect(segments.filter((s) => s.includes("warning")).every((s) => !s.includes("resources"))).toBe(true);
});

test("more steps than counted raise the total: never 4/3", () => {
  const { stream, text } = terminal();
  const bar = new Progress(stream, { format: "{value}/{total} resources", enabled: true });
  bar.start(3);
  for (let i = 0; i < 4; i++) {
    bar.increment();
    bar.log(`step ${i + 1}`);
  }
  bar.stop();
  const counters = [...plain(text()).matchAll(/(\d+)\/(\d+) resources/g)].map((m) => [Number(m[1]), Number(m[2])]);
  expect(counters.length).toBeGreaterThan(0);
  for (const [done, total] of counters) expect(done).toBeLessThanOrEqual(total);
  expect(counters).toContainEqual([4, 4]);
});

test("without a bar, lines are written as they come", () => {
  const { stream, text } = terminal();
  const bar = new Progress(stream, { format: "{value}/{total}", enabled: false });
  bar.start(2);
  bar.log("one");
  bar.increment();
  bar.stop();
  expect(text()).toBe("one\n");
});
