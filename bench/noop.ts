// The baseline for process start-up: tsx loading nothing.
export {};
