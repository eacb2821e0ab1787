package sc.fiji.sd.cli;

import java.nio.file.Path;

import picocli.CommandLine.Option;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.model.TinyDecoder;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;

/** Mixin for the generating sub-commands: {@code --decoder DIR}, a tiny decoder for the final images. */
public class DecoderOptions {

	@Option(names = "--decoder", paramLabel = "DIR", description = "Decode the images with a tiny decoder (TAESD "
		+ "layout: DIR/taesd_decoder/model.onnx, or a diffusers AutoencoderTiny in DIR/vae_decoder/) instead of the "
		+ "model's VAE: several times faster, slightly less detailed.")
	Path folder;

	/** Checks the folder before the model loads; a folder without a decoder is a usage error (exit code 2). */
	void check() {
		if (folder == null) return;
		try {
			TinyDecoder.file(folder);
		}
		catch (StableDiffusionException e) {
			throw new Main.UsageException("--decoder " + folder + ": " + e.getMessage());
		}
	}

	/** Gives the pipeline the tiny decoder for its final images (owned by the model), when one was asked for. */
	void apply(StableDiffusionModel model, StableDiffusionPipeline pipeline) {
		if (folder != null) pipeline.setTinyDecoder(model.tinyDecoder(folder), true);
	}
}
