# Runs `cimsim run --onnx MODEL --report OUT` and expects exit code 2, a message naming the model file, the node
# and its op type, and no OUT file. Arguments: -DCIMSIM= -DMODEL= -DOUT=
file(REMOVE ${OUT})
execute_process(COMMAND ${CIMSIM} run --onnx ${MODEL} --report ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "exit code ${rc}, expected 2\n${out}${err}")
endif()
if(NOT err MATCHES "refuse_softmax.onnx: node 'the_softmax' \\(Softmax\\): op type 'Softmax' is not supported; supported: Conv")
  message(FATAL_ERROR "unexpected message:\n${out}${err}")
endif()
if(EXISTS ${OUT})
  message(FATAL_ERROR "${OUT} was written")
endif()
message("refused as expected: ${err}")
