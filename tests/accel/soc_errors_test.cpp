// Bad descriptors: each error code is reported in STATUS with the ERROR IRQ, at both levels, and never crashes.
#include <gtest/gtest.h>

#include <functional>

#include "soc_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using namespace cimsim::accel::testing;

namespace {

class AccelErrors : public ::testing::TestWithParam<Level> {
 protected:
  /// Runs a one-layer descriptor table after `mutate` edits the (valid) descriptor; returns the error code the
  /// driver raised (None if the run succeeded) and checks STATUS/IRQ_STATUS agree.
  ErrorCode run_with(const std::function<void(Descriptor&)>& mutate, const LayerParams* layer = nullptr,
                     SocConfig cfg = soc_config(Level::Lt)) {
    cfg.level = GetParam();
    AcceleratorSoc soc("soc", cfg, table());
    ErrorCode code = ErrorCode::None;
    soc.run([&](AcceleratorDriver& d) {
      const LayerParams p =
          layer ? *layer : random_layer(conv(1, 4, 5, 5, 4, 3, 1, 1), Op::MAC8, Mode::Digital, 11);
      const uint64_t in = d.scratch().alloc(p.shape.input_elems());
      const uint64_t out = d.scratch().alloc(p.shape.outputs());
      Descriptor desc = d.make_descriptor(p, in, out);
      mutate(desc);
      const uint64_t t = d.write_descriptors({desc});
      try {
        d.run(t, 1);
      } catch (const AcceleratorError& e) {
        code = e.code;
        EXPECT_FALSE(e.timed_out);
        EXPECT_EQ(e.layer, 0u);
        const uint32_t st = d.read_reg(reg::STATUS);
        EXPECT_TRUE(st & status::ERROR);
        EXPECT_FALSE(st & status::BUSY);
        EXPECT_EQ((st & status::ERR_CODE_MASK) >> status::ERR_CODE_SHIFT, static_cast<uint32_t>(code));
      }
    });
    return code;
  }
};

}  // namespace

TEST_P(AccelErrors, ValidDescriptorRuns) { EXPECT_EQ(run_with([](Descriptor&) {}), ErrorCode::None); }

// Issue 24: a descriptor with only pad raised computed hundreds of millions of outputs before failing, and at
// pad 8000 an uncaught std::bad_alloc left the SC_THREAD and ended the simulation.
// The output region is probed before anything is computed or allocated: pad 8000 makes a 16003 x 16003 output
// far beyond the memory -> dma_error at once.
TEST_P(AccelErrors, Pad8000IsADmaErrorBeforeComputingNotACrash) {
  EXPECT_EQ(run_with([](Descriptor& d) { d.shape.pad = 8000; }), ErrorCode::DmaError);
}

TEST_P(AccelErrors, ZeroDimensionIsBadShape) {
  EXPECT_EQ(run_with([](Descriptor& d) { d.shape.cin = 0; }), ErrorCode::BadShape);
}

TEST_P(AccelErrors, KernelLargerThanInputIsBadShape) {
  EXPECT_EQ(run_with([](Descriptor& d) {
              d.shape.kh = 9;
              d.shape.pad = 0;
            }),
            ErrorCode::BadShape);
}

TEST_P(AccelErrors, WorkingSetBeyondBuffersIsTiled) {
  SocConfig cfg = soc_config(Level::Lt);
  cfg.array.act_buffer_bytes = 96;  // input 100 + output 100 bytes do not fit at once: row bands (<= 80) do
  EXPECT_EQ(run_with([](Descriptor&) {}, nullptr, cfg), ErrorCode::None);
}

TEST_P(AccelErrors, OneRowBeyondStagingIsBufferOverflow) {
  SocConfig cfg = soc_config(Level::Lt);
  cfg.array.act_buffer_bytes = 8;  // not even one output row with its input rows fits
  EXPECT_EQ(run_with([](Descriptor&) {}, nullptr, cfg), ErrorCode::BufferOverflow);
}

TEST_P(AccelErrors, WeightsBeyondWeightBufferIsBufferOverflow) {
  SocConfig cfg = soc_config(Level::Lt);
  cfg.array.weight_buffer_bytes = 32;
  EXPECT_EQ(run_with([](Descriptor&) {}, nullptr, cfg), ErrorCode::BufferOverflow);
}

TEST_P(AccelErrors, InputOutsideMemoryIsDmaError) {
  EXPECT_EQ(run_with([](Descriptor& d) { d.input_addr = 0x10; }), ErrorCode::DmaError);
}

TEST_P(AccelErrors, OutputOutsideMemoryIsDmaError) {
  EXPECT_EQ(run_with([](Descriptor& d) { d.output_addr = 0xF0000000ull; }), ErrorCode::DmaError);
}

TEST_P(AccelErrors, UnsupportedOpModePair) {
  EXPECT_EQ(run_with([](Descriptor& d) { d.mode = Mode::Cim; }), ErrorCode::Unsupported);  // MAC8 in CIM
}

TEST_P(AccelErrors, BadEnumValue) {
  EXPECT_EQ(run_with([](Descriptor& d) { d.op = static_cast<Op>(9); }), ErrorCode::BadEnum);
}

TEST_P(AccelErrors, BadMagic) {
  EXPECT_EQ(run_with([](Descriptor& d) { d.magic = 0xDEADBEEF; }), ErrorCode::BadMagic);
}

TEST_P(AccelErrors, WrongWeightSize) {
  EXPECT_EQ(run_with([](Descriptor& d) { d.weight_bytes += 1; }), ErrorCode::BadWeightSize);
}

TEST_P(AccelErrors, CimRowsBeyondMacroIsBadParams) {
  const LayerParams p = random_layer(conv(1, 4, 5, 5, 4, 3, 1, 1), Op::MAC4, Mode::Cim, 5);
  EXPECT_EQ(run_with([](Descriptor& d) { d.cim.rows = 1000; }, &p), ErrorCode::BadParams);
}

TEST_P(AccelErrors, RequantShiftOutOfRangeIsBadParams) {
  LayerParams p = random_layer(conv(1, 4, 5, 5, 4, 3, 1, 1), Op::MAC8, Mode::Digital, 5);
  AcceleratorSoc soc("soc", [] {
    SocConfig c = soc_config(Level::Lt);
    c.level = GetParam();
    return c;
  }(), table());
  soc.run([&](AcceleratorDriver& d) {
    const uint64_t in = d.scratch().alloc(p.shape.input_elems());
    const uint64_t out = d.scratch().alloc(p.shape.outputs());
    const Descriptor desc = d.make_descriptor(p, in, out);
    const int32_t bad = 70;
    d.host().write(desc.shift_addr, &bad, 4);  // corrupt the uploaded shift array
    const uint64_t t = d.write_descriptors({desc});
    try {
      d.run(t, 1);
      ADD_FAILURE() << "no error";
    } catch (const AcceleratorError& e) {
      EXPECT_EQ(e.code, ErrorCode::BadParams);
    }
  });
}

TEST_P(AccelErrors, DescriptorTableOutsideMemoryIsDmaError) {
  SocConfig cfg = soc_config(GetParam());
  AcceleratorSoc soc("soc", cfg, table());
  soc.run([&](AcceleratorDriver& d) {
    try {
      d.run(0x1000, 1);  // no memory there
      ADD_FAILURE() << "no error";
    } catch (const AcceleratorError& e) {
      EXPECT_EQ(e.code, ErrorCode::DmaError);
    }
  });
}

TEST_P(AccelErrors, ErrorInSecondLayerKeepsFirstLayerResult) {
  SocConfig cfg = soc_config(GetParam());
  AcceleratorSoc soc("soc", cfg, table());
  soc.run([&](AcceleratorDriver& d) {
    const LayerParams p = random_layer(conv(1, 4, 5, 5, 4, 3, 1, 1), Op::MAC8, Mode::Digital, 3);
    const std::vector<int8_t> x = random_tensor(p.shape.input_elems(), 4);
    const uint64_t in = d.scratch().alloc(x.size());
    const uint64_t out = d.scratch().alloc(p.shape.outputs());
    d.host().write(in, x.data(), x.size());
    Descriptor good = d.make_descriptor(p, in, out);
    Descriptor bad = good;
    bad.shape.cout = 0;
    const uint64_t t = d.write_descriptors({good, bad});
    try {
      d.run(t, 2);
      ADD_FAILURE() << "no error";
    } catch (const AcceleratorError& e) {
      EXPECT_EQ(e.code, ErrorCode::BadShape);
      EXPECT_EQ(e.layer, 1u);
    }
    std::vector<int8_t> y(p.shape.outputs()), ref(p.shape.outputs());
    d.host().read(out, y.data(), y.size());
    run_layer(p, x.data(), ref.data());
    EXPECT_EQ(y, ref);
    // The accelerator is usable again after an error.
    const NetworkResult r = d.run_network({p}, x);
    EXPECT_EQ(r.outputs[0], ref);
  });
}

INSTANTIATE_TEST_SUITE_P(Levels, AccelErrors, ::testing::Values(Level::Lt, Level::Cycle),
                         [](const ::testing::TestParamInfo<Level>& i) { return std::string(level_name(i.param)); });
