package sc.fiji.sd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonParser;

/** Reading ONNX Runtime's profile: the first run is left out, node times are summed by operator within the runs. */
class OrtProfileTest {

	@Test
	void kernelTimesOfTheRunsAfterTheFirstByOperator() {
		String trace = "[{\"cat\":\"Session\",\"name\":\"session_initialization\",\"ts\":0,\"dur\":500},"
			+ "{\"cat\":\"Session\",\"name\":\"model_run\",\"ts\":1000,\"dur\":900},"
			+ "{\"cat\":\"Node\",\"name\":\"conv1_kernel_time\",\"ts\":1100,\"dur\":700,\"args\":{\"op_name\":\"Conv\"}},"
			+ "{\"cat\":\"Session\",\"name\":\"model_run\",\"ts\":3000,\"dur\":400},"
			+ "{\"cat\":\"Node\",\"name\":\"conv1_fence_before\",\"ts\":3005,\"dur\":1,\"args\":{\"op_name\":\"Conv\"}},"
			+ "{\"cat\":\"Node\",\"name\":\"conv1_kernel_time\",\"ts\":3010,\"dur\":200,\"args\":{\"op_name\":\"Conv\"}},"
			+ "{\"cat\":\"Node\",\"name\":\"conv2_kernel_time\",\"ts\":3210,\"dur\":100,\"args\":{\"op_name\":\"Conv\"}},"
			+ "{\"cat\":\"Node\",\"name\":\"norm_kernel_time\",\"ts\":3310,\"dur\":50,\"args\":{\"op_name\":\"GroupNorm\"}}]";
		OrtProfile p = OrtProfile.of(JsonParser.parseString(trace));
		assertEquals(1, p.runs(), "the first run (allocations) is left out");
		assertEquals(400e-6, p.runSeconds(), 1e-12);
		assertEquals(350e-6, p.kernelSeconds(), 1e-12);
		assertEquals(Map.of("Conv", 300e-6, "GroupNorm", 50e-6).keySet(), p.byOperator().keySet());
		assertEquals(300e-6, p.byOperator().get("Conv"), 1e-12);
	}
}
