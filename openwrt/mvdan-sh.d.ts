/** The part of mvdan-sh (mvdan/sh compiled to JS) this project uses; the package ships no types. */
declare module "mvdan-sh" {
  type Node = { [key: string]: unknown };
  export const syntax: {
    NewParser(...options: unknown[]): { Parse(src: string, name: string): Node };
    Variant(lang: unknown): unknown;
    LangBash: unknown;
    NodeType(node: Node): string;
    Walk(node: Node, visit: (node: Node | null) => boolean): void;
  };
}
