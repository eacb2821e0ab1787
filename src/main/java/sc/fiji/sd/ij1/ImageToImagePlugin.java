package sc.fiji.sd.ij1;

import ij.plugin.PlugIn;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/** ImageJ 1.x Plugins › Stable Diffusion › Image to Image...: the active image, repainted after a prompt. (In Fiji the SciJava command with the same label is used.) */
public class ImageToImagePlugin implements PlugIn {

	@Override
	public void run(String arg) {
		Plugins.runCommand(Mode.IMAGE_TO_IMAGE);
	}
}
