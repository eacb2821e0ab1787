package sc.fiji.sd.cli;

import java.nio.file.Path;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sc.fiji.sd.image.ImageFiles;
import sc.fiji.sd.pipeline.GenerationRequest;

@Command(name = "inpaint", description = "Inpainting: repaint the white part of a mask, keep the rest exactly.", sortOptions = false)
class InpaintCommand extends GenerationCommand {

	@Option(names = "--image", required = true, paramLabel = "FILE", description = "Input image (PNG, JPEG, …).")
	Path image;

	@Option(names = "--mask", required = true, paramLabel = "FILE", description = "Mask of the same size: white = repaint, black = keep.")
	Path mask;

	@Option(names = "--strength", defaultValue = "1.0", description = "How much to change inside the mask, 0 to 1 (default: ${DEFAULT-VALUE}).")
	double strength;

	@Option(names = "--feather", defaultValue = "4", description = "Soft edge inside the mask, in pixels (default: ${DEFAULT-VALUE}).")
	int feather;

	@Mixin
	TileOptions tiles = new TileOptions();

	@Override
	GenerationRequest.Mode mode() {
		return GenerationRequest.Mode.INPAINT;
	}

	@Override
	GenerationRequest.Builder prepare(GenerationRequest.Builder builder) {
		Img2ImgCommand.checkStrength(strength);
		var rgb = ImageFiles.readRgb(image);
		var m = ImageFiles.readMask(mask);
		if (rgb.dimension(0) != m.dimension(0) || rgb.dimension(1) != m.dimension(1)) {
			throw new Main.UsageException("The mask " + mask + " is " + m.dimension(0) + "x" + m.dimension(1)
				+ " but the image " + image + " is " + rgb.dimension(0) + "x" + rgb.dimension(1)
				+ ": they must have the same size.");
		}
		return tiles.apply(builder).initImage(rgb).mask(m).strength(strength).maskFeather(feather);
	}
}
