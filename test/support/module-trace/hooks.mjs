// The resolve hook of register.mjs: appends each resolved module's URL to STRATA_TRACE_MODULES.
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.STRATA_TRACE_MODULES) appendFileSync(process.env.STRATA_TRACE_MODULES, `${result.url}\n`);
  return result;
}
