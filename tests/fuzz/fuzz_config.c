int LLVMFuzzerTestOneInput(void); int LLVMFuzzerTestOneInput(void){return 0;}
