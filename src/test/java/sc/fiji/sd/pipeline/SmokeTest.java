package sc.fiji.sd.pipeline;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import net.imglib2.img.array.ArrayImgs;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

class SmokeTest {
	@ParameterizedTest
	@ValueSource(strings = { "plain", "optimum", "fp16", "inpaint9", "lcm" })
	void run(String v) {
		try (StableDiffusionModel m = StableDiffusionModel.load(Path.of("/tmp/sdtiny/" + v), "auto")) {
			System.out.println(m.info().describe());
			StableDiffusionPipeline p = new StableDiffusionPipeline(m, (n, r) -> new TestDdim());
			GenerationResult res = p.generate(GenerationRequest.builder().prompt("a (red:1.2) circle").seed(1).steps(3).size(64, 64).batchSize(2).build(), null);
			System.out.println(v + " txt2img calls " + p.unetCalls() + " " + res.images().size());
			var img = ArrayImgs.floats(64, 64, 3);
			var mask = ArrayImgs.floats(64, 64);
			res = p.generate(GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE).initImage(img).strength(0.5).seed(1).steps(4).build(), null);
			System.out.println(v + " img2img calls " + p.unetCalls());
			res = p.generate(GenerationRequest.builder().mode(Mode.INPAINT).initImage(img).mask(mask).strength(1).seed(1).steps(4).guidance(1).build(), null);
			System.out.println(v + " inpaint calls " + p.unetCalls());
		}
	}
}
