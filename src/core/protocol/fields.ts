/**
 * Compile-time agreement between a document's field table (the `as const` list the docs test and the shape
 * checks read) and its TypeScript type: `FieldsOf<T, typeof TABLE>` is `true` only when the table names
 * exactly the type's keys, so a field added to one and not the other does not compile.
 */
export type FieldsOf<T, Table extends readonly string[]> = [keyof T] extends [Table[number]]
  ? [Table[number]] extends [keyof T]
    ? true
    : { missingFromType: Exclude<Table[number], keyof T> }
  : { missingFromTable: Exclude<keyof T, Table[number]> };

/** Use as `const _x: Agree<FieldsOf<…>> = true;`: an error names the fields that disagree. */
export type Agree<T extends true> = T;
