// The package ships its ranked list of ~49,000 leaked passwords without type declarations.
declare module '@zxcvbn-ts/language-common/dist/passwords.json.mjs' {
  const passwords: string[];
  export default passwords;
}
