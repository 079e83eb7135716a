import { MANAGED_FILES } from "../../../provider/device/facts";
import { initScriptName } from "../../../provider/resources/device-offload";
import { flowtablePaths } from "../../../provider/resources/flowtable";

/** Every file a resource writes is among what every facts probe reads: one probe serves every resource. */
const matches = (path: string) => MANAGED_FILES.some((glob) => new RegExp(`^${glob.replace(/[.+]/g, "\\$&").replace(/\*/g, "[^/]*")}$`).test(path));

test("Flowtable's include files and DeviceOffload's boot scripts are managed files", () => {
  for (const name of ["ft2", "bench", "a.b-c_d"]) {
    expect(matches(flowtablePaths(name).flowtable)).toBe(true);
    expect(matches(flowtablePaths(name).rule)).toBe(true);
  }
  expect(matches(`/etc/init.d/${initScriptName(["lan1", "wan"])}`)).toBe(true);
  expect(matches("/etc/init.d/firewall")).toBe(false);
});
