#pragma once
// Seeded random layers and the built-in demo network of `cimsim run` (also used by the accelerator tests and
// the benchmark). Weights are uniform over each operator's valid set; requantization multipliers are
// calibrated on the actual accumulators so that outputs use the int8 range without saturating everything.
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/accel/layer.hpp"
#include "cimsim/accel/program.hpp"
#include "cimsim/accel/topology.hpp"

namespace cimsim::accel {

/// Random valid weights for `op`, requant with mult/shift calibrated on `input` (if given; else on a
/// magnitude estimate), bias small, `relu` as given. CIM layers get `cim` (else default CimParams).
LayerParams random_layer(const LayerShape& shape, Op op, Mode mode, uint64_t seed, bool relu = true,
                         const std::vector<int8_t>* input = nullptr, const CimParams& cim = CimParams{});
/// Uniform int8 tensor of `n` values.
std::vector<int8_t> random_tensor(int64_t n, uint64_t seed);

/// The built-in 7-layer network (input 1x8x16x16): conv3x3 MAC8, depthwise 3x3/2 DEEPSHIFT, 1x1 MAC4 (CIM),
/// conv3x3 MF (CIM), conv3x3/2 ADDER, 1x1 BWN, FC XNOR (CIM). Calibrated layer by layer on `input`.
std::vector<LayerParams> builtin_network(uint64_t seed, const std::vector<int8_t>& input);
/// Input tensor of builtin_network for `seed`.
std::vector<int8_t> builtin_input(uint64_t seed);

/// One START's worth of a topology run: a chained graph, its input and the expected output (datapath).
struct TopologySegment {
  Graph graph;
  std::vector<int8_t> input;
  std::vector<std::vector<int8_t>> expect;  ///< per graph output
};
/// A topology with seeded random weights (each layer calibrated on its actual input): consecutive layers whose
/// shapes chain form one graph (activations may stay on chip); a layer whose input does not match the previous
/// output starts a new segment with a seeded random input from DRAM.
std::vector<TopologySegment> random_topology_segments(const Topology& t, const std::vector<LayerChoice>& choice,
                                                      uint64_t seed);

/// The graph of one topology segment: Graph::chain of `layers` (a flatten view where a layer reads the previous
/// output's values in another shape), nodes named `names`, only the last output read back.
Graph topology_segment_graph(const std::vector<LayerParams>& layers, const std::vector<std::string>& names);

/// A seeded random network as a topology (`layers` conv/FC layers that chain: 1x1, 3x3 with padding, stride 2,
/// grouped and depthwise convolutions, an FC at the end) with a random operator and mode per layer; for
/// checks that the analytic level equals the simulators.
Topology random_topology(uint64_t seed, int layers, std::vector<LayerChoice>& choice);

/// Chained datapath::run_layer: the output of every layer.
std::vector<std::vector<int8_t>> run_chain(const std::vector<LayerParams>& layers, const std::vector<int8_t>& input);

}  // namespace cimsim::accel
