// ENOS search: BatchNorm re-estimation before export (libtorch). See docs/enos.md ("BN recalibration").
#pragma once

#include <vector>

#include "cimsim/enos/search/torch_impl.hpp"

namespace cimsim::enos::search {

/// Re-estimates the running statistics of every layer's chosen BatchNorm, layer by layer in the order of
/// `net.layers` (topological): layer l's BatchNorm measures the batch statistics of its input over `batches`
/// (cumulative average) while every other module is in eval mode, so each holds the statistics of the inputs the
/// exported network (running statistics) gives it. No gradient; observers unchanged; the net ends in eval mode.
void recalibrate_bn_in_inference_order(SearchNetImpl& net, const std::vector<torch::Tensor>& batches);

}  // namespace cimsim::enos::search
