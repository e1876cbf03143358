// Express 4 is installed as the npm alias "express4"; its API is typed closely enough by @types/express.
declare module 'express4' {
  const express4: typeof import('express');
  export default express4;
}
