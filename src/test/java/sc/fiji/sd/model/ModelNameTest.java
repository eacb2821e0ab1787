package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** The provenance names the model, not our cache folder. */
class ModelNameTest {

	@Test
	void theShippedModelUnpackedIntoTheCacheIsNamedWithoutTheHashSuffix() {
		assertEquals("tiny-sd-shapes",
			ModelName.of(Path.of("/home/u/.cache/stable-diffusion-fiji/models/tiny-sd-shapes-b014b8")));
	}

	@Test
	void otherFoldersKeepTheirNames() {
		assertEquals("sd15-onnx", ModelName.of(Path.of("/models/sd15-onnx")));
		assertEquals("tiny-sd-shapes", ModelName.of(Path.of("/work/models/tiny-sd-shapes")));
		assertEquals("tiny-sd-shapes-b014b8", ModelName.of(Path.of("/data/tiny-sd-shapes-b014b8")),
			"a user's own folder of that name is not our cache");
	}
}
