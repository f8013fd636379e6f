export { dashboardHandlers } from "./handler.js";
