import type {
  KyselyPlugin,
  OperationNode,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from "kysely";

/** Called with a table's name when a statement that writes it starts and again when it returns. */
export type TableWriteListener = (table: string) => void;

const WRITE_WORDS = /\b(insert|update|delete|merge|truncate)\b/i;

/** The table a FROM/INTO/UPDATE target names (`capsules`, `capsules as c`), if it is a plain table. */
function tableOf(node: OperationNode | undefined): string | undefined {
  const n = node as { kind?: string; node?: OperationNode; table?: { identifier?: { name?: string } } } | undefined;
  if (n?.kind === "AliasNode") return tableOf(n.node);
  if (n?.kind === "TableNode") return n.table?.identifier?.name;
  return undefined;
}

/** Tables a statement writes; raw SQL is matched by words, erring towards "it writes". */
function writtenTables(node: RootOperationNode, watched: ReadonlySet<string>): string[] {
  const n = node as RootOperationNode & Record<string, unknown>;
  switch (node.kind) {
    case "UpdateQueryNode":
      return [tableOf(n.table as OperationNode)].filter((t): t is string => t !== undefined);
    case "InsertQueryNode":
    case "MergeQueryNode":
      return [tableOf(n.into as OperationNode)].filter((t): t is string => t !== undefined);
    case "DeleteQueryNode":
      return ((n.from as { froms?: OperationNode[] })?.froms ?? [])
        .map(tableOf)
        .filter((t): t is string => t !== undefined);
    case "RawNode": {
      const text = ((n.sqlFragments as readonly string[]) ?? []).join(" ");
      if (!WRITE_WORDS.test(text)) return [];
      return [...watched].filter((t) => new RegExp(`\\b${t}\\b`, "i").test(text));
    }
    default:
      return [];
  }
}

/**
 * A Kysely plugin that tells listeners when a watched table is written through this Kysely instance (its queries,
 * its transactions, and raw SQL that mentions the table). Caches of rows use it to drop what a write made stale.
 */
export class WriteWatch implements KyselyPlugin {
  private readonly pending = new WeakMap<object, string[]>();
  private readonly listeners: TableWriteListener[] = [];

  constructor(private readonly tables: ReadonlySet<string>) {}

  /** Subscribes to writes of the watched tables. */
  onWrite(listener: TableWriteListener): void {
    this.listeners.push(listener);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const written = writtenTables(args.node, this.tables).filter((t) => this.tables.has(t));
    if (written.length > 0) {
      this.pending.set(args.queryId, written);
      this.notify(written);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    // Again on completion: a read that started while the write ran must not be cached as current.
    const written = this.pending.get(args.queryId);
    if (written) this.notify(written);
    return args.result;
  }

  private notify(tables: string[]): void {
    for (const t of tables) for (const l of this.listeners) l(t);
  }
}
