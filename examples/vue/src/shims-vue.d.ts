// .vue files as components, for TypeScript outside the Vue compiler.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent;
  export default component;
}
