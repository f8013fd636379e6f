export { createUiHandler, type UiContext, type UiHandler } from "./handler.js";
export { requestAuthorization } from "./session.js";
