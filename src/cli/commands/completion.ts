import type { Command } from "commander";
import { print } from "../output.js";
import { renderCompletion } from "../render/completion.js";
import { attachAction, programOf } from "../spec.js";
import { COMMAND_TABLE, completionCommand } from "../table.js";

export function register(program: Command): void {
  // The scripts are written from the tables, the tree every command module builds its commander command from.
  attachAction(program, completionCommand, (_opts, [shell]) =>
    print(renderCompletion(shell, programOf(COMMAND_TABLE))),
  );
}
