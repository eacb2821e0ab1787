package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.view.Views;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.pipeline.TestModels;

/** A UNet whose weights live in a separate file (how exports over 2 GB are stored) loads and gives the same pixels. */
class ExternalDataTest {

	@TempDir
	Path dir;

	@Test
	void unetWithAnExternalWeightsFile() throws Exception {
		Path folder = dir.resolve("optimum-external");
		TestModels.copyTree(TestModels.folder("optimum"), folder);
		Path source = Path.of(getClass().getResource("/onnx/external-data-unet/model.onnx").toURI()).getParent();
		Files.copy(source.resolve("model.onnx"), folder.resolve("unet/model.onnx"), StandardCopyOption.REPLACE_EXISTING);
		Files.copy(source.resolve("weights.pb"), folder.resolve("unet/weights.pb"));
		assertTrue(Files.size(folder.resolve("unet/model.onnx")) < Files.size(folder.resolve("unet/weights.pb")),
			"the weights are outside model.onnx");

		var request = GenerationRequest.builder().prompt("a circle").size(64, 64).steps(2).seed(4).build();
		try (StableDiffusionModel external = StableDiffusionModel.load(folder, "cpu")) {
			var a = new StableDiffusionPipeline(external).generate(request, null).images().get(0).pixels();
			var b = TestModels.pipeline("optimum").generate(request, null).images().get(0).pixels();
			var ca = Views.flatIterable(a).cursor();
			var cb = Views.flatIterable(b).cursor();
			while (ca.hasNext()) assertEquals(cb.next().get(), ca.next().get());
		}
	}
}
