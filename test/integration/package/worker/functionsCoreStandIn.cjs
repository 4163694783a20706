// Stand-in for `@azure/functions-core`, installed the way the Functions Node.js worker installs the
// real one (Azure/azure-functions-nodejs-worker `src/setupCoreModule.ts`): a proxy on
// `Module.prototype.require` answers that one name. There is no node_modules folder, so an ESM
// `import` of the name would fail here as it fails in the host. Registrations are kept on
// `globalThis.__functionsCore` for `runPackagedApp.mjs`.
const Module = require('node:module');

const registrations = [];
const coreApi = {
  version: 'stand-in',
  hostVersion: 'stand-in',
  registerFunction: (metadata, callback) => {
    registrations.push({ metadata, callback });
    return { dispose() {} };
  },
  setProgrammingModel: (model) => {
    coreApi.programmingModel = model;
  },
  getProgrammingModel: () => coreApi.programmingModel,
  registerHook: () => ({ dispose() {} }),
  Disposable: class {
    dispose() {}
  },
};
globalThis.__functionsCore = { registrations, coreApi };

Module.prototype.require = new Proxy(Module.prototype.require, {
  apply(target, thisArg, args) {
    return args[0] === '@azure/functions-core' ? coreApi : Reflect.apply(target, thisArg, args);
  },
});
