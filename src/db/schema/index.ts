export * from './requests.js';
export * from './mail.js';
