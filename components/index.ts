export * from "./jupyterImage";
export * from "./jetstreamVm";
export * from "./notebookServer";
export * from "./tlsProxy";
export * from "./workshopSecurityGroup";
export * from "./localCourseData";
