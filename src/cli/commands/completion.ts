import { Argument, type Command } from "commander";
import { addExamples } from "../common.js";
import { print } from "../output.js";
import { renderCompletion, SHELLS, type Shell } from "../render/completion.js";

export function register(program: Command): void {
  const cmd = program
    .command("completion")
    .description(
      "print the shell completion script for bash, zsh or fish (commands, options, and --env names from the repository you are in)",
    )
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices([...SHELLS]));
  addExamples(cmd, [
    ["source <(strata completion bash)", "bash, this shell only (add it to ~/.bashrc to keep it)"],
    ['strata completion zsh > "${fpath[1]}/_strata"', "zsh, every new shell"],
    ["strata completion fish > ~/.config/fish/completions/strata.fish", "fish, every new shell"],
  ]);
  cmd.action((shell: Shell, _opts: unknown, self: Command) => {
    // main.ts registers every command for `completion`, so the root holds the whole tree.
    let root = self;
    while (root.parent) root = root.parent;
    print(renderCompletion(shell, root));
  });
}
