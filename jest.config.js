/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  moduleNameMapper: {
    "^pulumi-openwrt-offload/sim$": "<rootDir>/sim/index.ts",
    "^pulumi-openwrt-offload$": "<rootDir>/sdk/index.ts",
  },
  // The routers' busybox is built on a cold cache (about a minute): once, before any worker starts.
  globalSetup: "<rootDir>/test/global-setup.ts",
  testTimeout: 60000,
  // Suites skipped for want of QEMU, Chromium or a Pulumi CLI are listed after the summary.
  reporters: ["default", "<rootDir>/test/reporters/skip-notices.cjs"],
  // Simulated routers are real processes; two workers match this machine's two cores.
  maxWorkers: 2,
};
