export { type Ramp, rampFactor, refreshRamp } from '../core/ramp.js';
