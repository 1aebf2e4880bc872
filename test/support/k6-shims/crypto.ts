// Placeholder: the load-test helpers map k6/crypto to Node's crypto here (see jest.config.js).
export {};
