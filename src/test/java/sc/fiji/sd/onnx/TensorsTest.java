package sc.fiji.sd.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;

class TensorsTest {

	@Test
	void tensorsOfTheDeclaredTypeGoThroughASession() throws Exception {
		try (OrtSession s = new SessionFactory("cpu").open(ExecutionProvidersTest.identityModel(), SessionMemory.NO_ARENA)) {
			assertEquals(OnnxJavaType.FLOAT16, Tensors.elementType(s.getInputInfo().get("x16")));
			assertEquals(0, Tensors.shape(s.getInputInfo().get("i64")).length, "scalar input");
			float[] values = { 0.5f, -1.25f, 3f, 1000.2f };
			try (OnnxTensor x32 = Tensors.create(OnnxJavaType.FLOAT, values, new long[] { 4 });
				OnnxTensor x16 = Tensors.create(OnnxJavaType.FLOAT16, values, new long[] { 4 });
				OnnxTensor i64 = Tensors.create(OnnxJavaType.INT64, new float[] { 981.4f }, new long[0]);
				OrtSession.Result r = s.run(Map.of("x32", x32, "x16", x16, "i64", i64)))
			{
				assertArrayEquals(values, Tensors.toFloats(r.get("y32").get()));
				// fp16 keeps 11 significant bits (steps of 0.5 near 1000): 1000.2 → 1000.0
				assertArrayEquals(new float[] { 0.5f, -1.25f, 3f, 1000f }, Tensors.toFloats(r.get("y16").get()));
				assertEquals(981L, ((OnnxTensor) r.get("o64").get()).getLongBuffer().get(0));
			}
		}
	}

	@Test
	void reusableTensorsAreRefilledInPlace() throws Exception {
		try (OrtSession s = new SessionFactory("cpu").open(ExecutionProvidersTest.identityModel(), SessionMemory.NO_ARENA);
			Tensors.Reusable in = new Tensors.Reusable(OnnxJavaType.FLOAT16, new long[] { 3 });
			Tensors.Reusable out = new Tensors.Reusable(OnnxJavaType.FLOAT16, new long[] { 3 });
			Tensors.Reusable in32 = new Tensors.Reusable(OnnxJavaType.FLOAT, new long[] { 3 });
			Tensors.Reusable out32 = new Tensors.Reusable(OnnxJavaType.FLOAT, new long[] { 3 });
			OnnxTensor i64 = Tensors.create(OnnxJavaType.INT64, new float[] { 1 }, new long[0]))
		{
			float[] result = new float[3];
			for (int round = 0; round < 2; round++) {
				float[] v = { round, round + 0.5f, -round };
				in.put(0, v, 0, 3);
				in32.put(0, v, 0, 3);
				try (var r = s.run(Map.of("x16", in.tensor(), "x32", in32.tensor(), "i64", i64),
					Map.of("y16", out.tensor(), "y32", out32.tensor())))
				{
					out.get(result);
					assertArrayEquals(v, result);
					out32.get(result);
					assertArrayEquals(v, result);
				}
			}
		}
	}

	@Test
	void valueCountMustFillTheShape() {
		assertThrows(IllegalArgumentException.class, () -> Tensors.create(OnnxJavaType.FLOAT, new float[3], new long[] { 2, 2 }));
	}
}
