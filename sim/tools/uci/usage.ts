/** cli.c uci_usage, as the uci of OpenWrt 22.03/23.05 prints it (with -t, before -C existed). */
export function usageText(app: string): string {
  return (
    `Usage: ${app} [<options>] <command> [<arguments>]\n\n` +
    "Commands:\n" +
    "\tbatch\n" +
    "\texport     [<config>]\n" +
    "\timport     [<config>]\n" +
    "\tchanges    [<config>]\n" +
    "\tcommit     [<config>]\n" +
    "\tadd        <config> <section-type>\n" +
    "\tadd_list   <config>.<section>.<option>=<string>\n" +
    "\tdel_list   <config>.<section>.<option>=<string>\n" +
    "\tshow       [<config>[.<section>[.<option>]]]\n" +
    "\tget        <config>.<section>[.<option>]\n" +
    "\tset        <config>.<section>[.<option>]=<value>\n" +
    "\tdelete     <config>[.<section>[[.<option>][=<id>]]]\n" +
    "\trename     <config>.<section>[.<option>]=<name>\n" +
    "\trevert     <config>[.<section>[.<option>]]\n" +
    "\treorder    <config>.<section>=<position>\n" +
    "\n" +
    "Options:\n" +
    "\t-c <path>  set the search path for config files (default: /etc/config)\n" +
    "\t-d <str>   set the delimiter for list values in uci show\n" +
    "\t-f <file>  use <file> as input instead of stdin\n" +
    "\t-m         when importing, merge data into an existing package\n" +
    "\t-n         name unnamed sections on export (default)\n" +
    "\t-N         don't name unnamed sections\n" +
    "\t-p <path>  add a search path for config change files\n" +
    "\t-P <path>  add a search path for config change files and use as default\n" +
    "\t-t <path>  set save path for config change files\n" +
    "\t-q         quiet mode (don't print error messages)\n" +
    "\t-s         force strict mode (stop on parser errors, default)\n" +
    "\t-S         disable strict mode\n" +
    "\t-X         do not use extended syntax on 'show'\n" +
    "\n"
  );
}
